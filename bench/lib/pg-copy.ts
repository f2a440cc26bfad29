import type pg from 'pg'

/**
 * Runs `COPY ... FROM STDIN` with node-postgres, without the pg-copy-streams package: a submittable query that sends
 * the given chunks when the server asks for copy data. Resolves once the server reports the command complete.
 */
export function copyFrom(client: pg.Client, copyStatement: string, chunks: readonly Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
        let failed: Error | undefined
        const submittable = {
            submit(connection: {query(text: string): void}) {
                connection.query(copyStatement)
            },
            handleCopyInResponse(connection: {sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void}) {
                for (const chunk of chunks) connection.sendCopyFromChunk(chunk)
                connection.endCopyFrom()
            },
            handleCommandComplete() {},
            handleError(error: Error) {
                failed = error
            },
            handleReadyForQuery() {
                if (failed) reject(new Error(`COPY failed: ${failed.message} (statement: ${copyStatement})`))
                else resolve()
            },
        }
        client.query(submittable as never)
    })
}
