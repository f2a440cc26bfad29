import http from 'node:http'
import {Counter, Gauge, Histogram, Registry} from 'prom-client'

/** Prometheus metrics of one prober process, on their own registry so tests can create several. */
export interface ProberMetrics {
    registry: Registry
    /** Stored proof records by kind and outcome. */
    probes: Counter<'kind' | 'outcome'>
    /** Whole probe duration of one kind (all its requests), seconds. */
    probeLatency: Histogram<'kind'>
    /** Seconds between a job's planned start (round start plus jitter) and the moment a worker took it. */
    queueLag: Gauge
    /** Jobs that failed and go back to the queue for a retry. */
    jobFailures: Counter
}

export function createProberMetrics(): ProberMetrics {
    const registry = new Registry()
    return {
        registry,
        probes: new Counter({
            name: 'proofgap_prober_probes_total',
            help: 'Proof records stored, by proof kind and outcome',
            labelNames: ['kind', 'outcome'],
            registers: [registry],
        }),
        probeLatency: new Histogram({
            name: 'proofgap_prober_probe_duration_seconds',
            help: 'Duration of one probe (every request of its kind), seconds',
            labelNames: ['kind'],
            buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
            registers: [registry],
        }),
        queueLag: new Gauge({
            name: 'proofgap_prober_queue_lag_seconds',
            help: 'Delay between the planned start of the last probe job and the moment a worker took it, seconds',
            registers: [registry],
        }),
        jobFailures: new Counter({
            name: 'proofgap_prober_job_failures_total',
            help: 'Probe jobs that failed and were left to the queue for a retry',
            registers: [registry],
        }),
    }
}

/** Serves `GET /metrics` on `host` (default every interface); resolves once the port is bound. */
export async function serveProberMetrics(
    metrics: ProberMetrics,
    port: number,
    host?: string,
): Promise<{port: number; close(): Promise<void>}> {
    const server = http.createServer((request, response) => {
        if (request.method !== 'GET' || request.url !== '/metrics') {
            response.writeHead(404, {'content-type': 'text/plain'}).end('not found: use GET /metrics\n')
            return
        }
        metrics.registry.metrics().then(
            (text) => response.writeHead(200, {'content-type': metrics.registry.contentType}).end(text),
            (error: unknown) => response.writeHead(500, {'content-type': 'text/plain'}).end(`metrics failed: ${String(error)}\n`),
        )
    })
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve())
    })
    const address = server.address()
    return {
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }
}
