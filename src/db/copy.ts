import type pg from 'pg'

/**
 * Runs `COPY ... FROM STDIN` with node-postgres, without the pg-copy-streams package: a submittable query that sends
 * the given chunks when the server requests copy data. Resolves once the server is ready for the next query. Rejects
 * with the server's error (its SQLSTATE kept in `code`) and the statement, or when the connection ends.
 */
export function copyFrom(client: pg.ClientBase, copyStatement: string, chunks: readonly Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
        const submittable = {
            submit(connection: {query(text: string): void}) {
                connection.query(copyStatement)
            },
            handleCopyInResponse(connection: {sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void}) {
                for (const chunk of chunks) connection.sendCopyFromChunk(chunk)
                connection.endCopyFrom()
            },
            handleCommandComplete() {},
            // pg drops the query from its client when an error arrives, so no ready-for-query follows an error.
            handleError(error: Error & {code?: string}) {
                reject(Object.assign(new Error(`COPY failed: ${error.message} (statement: ${copyStatement})`, {cause: error}), {code: error.code}))
            },
            handleReadyForQuery() {
                resolve()
            },
        }
        client.query(submittable as never)
    })
}
