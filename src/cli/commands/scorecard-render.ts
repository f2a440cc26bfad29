import {canonicalJson, type CanonicalValue} from '../../gap/canonical-json'
import type {Scorecard} from '../../gap/scorecard'

/** Columns of the table formats: a header and how to read the cell from a scorecard. */
const COLUMNS: Array<[string, (card: Scorecard) => string | number | null]> = [
    ['operator', (card) => card.operator],
    ['blueprint', (card) => card.blueprintId],
    ['period', (card) => card.period.label],
    ['heartbeat_uptime', (card) => card.heartbeatUptime.ratio],
    ['probe_uptime', (card) => card.probeUptime.ratio],
    ['latency_p50_ms', (card) => card.probeLatencyMs.p50],
    ['latency_p95_ms', (card) => card.probeLatencyMs.p95],
    ['latency_p99_ms', (card) => card.probeLatencyMs.p99],
    ['jobs_submitted', (card) => card.jobs.submitted],
    ['jobs_completed', (card) => card.jobs.completed],
    ['completion_rate', (card) => card.jobs.completionRate],
    ['median_result_latency_s', (card) => card.jobs.medianResultLatencySeconds],
    ['proof_coverage', (card) => card.proofCoverage.ratio],
    ['contradictions', (card) => card.contradictions.count],
    ['failing_kinds', (card) => card.failingKinds.join(' ')],
    ['slashes_proposed', (card) => card.slashes.proposed],
    ['slashes_executed', (card) => card.slashes.executed],
    ['change_heartbeat_uptime', (card) => card.change?.heartbeatUptime ?? null],
    ['change_proof_coverage', (card) => card.change?.proofCoverage ?? null],
    ['methodology', (card) => card.methodologyVersion],
]

function cell(value: string | number | null): string {
    return value === null ? '' : String(value)
}

export function renderJson(cards: Scorecard[]): string {
    return `${canonicalJson(cards as unknown as CanonicalValue)}\n`
}

/** RFC 4180 CSV: fields with a comma, quote or newline are quoted, quotes doubled. */
export function renderCsv(cards: Scorecard[]): string {
    const escape = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text)
    const lines = [COLUMNS.map(([name]) => name).join(',')]
    for (const card of cards) lines.push(COLUMNS.map(([, read]) => escape(cell(read(card)))).join(','))
    return `${lines.join('\r\n')}\r\n`
}

export function renderMarkdown(cards: Scorecard[]): string {
    const lines = [`| ${COLUMNS.map(([name]) => name).join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`]
    for (const card of cards) lines.push(`| ${COLUMNS.map(([, read]) => cell(read(card)).replace(/\|/g, '\\|')).join(' | ')} |`)
    return `${lines.join('\n')}\n`
}

function escapeHtml(text: string): string {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Draws a horizontal bar chart of one ratio per operator, the current period next to the previous one. */
function ratioChart(title: string, cards: Scorecard[], read: (card: Scorecard) => [string | null, string | null]): string {
    const rowHeight = 22
    const width = 520
    const barMax = 300
    const height = 30 + cards.length * rowHeight * 2
    const bars = cards.flatMap((card, index) => {
        const [current, previous] = read(card)
        const y = 28 + index * rowHeight * 2
        const bar = (value: string | null, offset: number, colour: string) => {
            const length = value === null ? 0 : Math.round(Number(value) * barMax)
            return `<rect x="200" y="${y + offset}" width="${length}" height="9" fill="${colour}"/><text x="${205 + length}" y="${y + offset + 8}" font-size="9">${value ?? 'n/a'}</text>`
        }
        return [
            `<text x="4" y="${y + 12}" font-size="10">${escapeHtml(card.operator.slice(0, 12))}…</text>`,
            bar(current, 0, '#2b6cb0'),
            bar(previous, 11, '#a0aec0'),
        ]
    })
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><text x="4" y="14" font-size="12" font-weight="bold">${escapeHtml(title)} (blue: this period, grey: previous)</text>${bars.join('')}</svg>`
}

export function renderHtml(cards: Scorecard[]): string {
    const header = COLUMNS.map(([name]) => `<th>${escapeHtml(name)}</th>`).join('')
    const rows = cards.map((card) => `<tr>${COLUMNS.map(([, read]) => `<td>${escapeHtml(cell(read(card)))}</td>`).join('')}</tr>`).join('\n')
    const charts = [
        ratioChart('Heartbeat uptime', cards, (card) => [card.heartbeatUptime.ratio, card.previous?.heartbeatUptime.ratio ?? null]),
        ratioChart('Probe uptime', cards, (card) => [card.probeUptime.ratio, card.previous?.probeUptime.ratio ?? null]),
        ratioChart('Proof coverage', cards, (card) => [card.proofCoverage.ratio, card.previous?.proofCoverage.ratio ?? null]),
    ]
    const title = cards[0] === undefined ? 'proofgap scorecard' : `proofgap scorecard ${cards[0].period.label}`
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${charts.join('\n')}
<table><thead><tr>${header}</tr></thead><tbody>
${rows}
</tbody></table>
<p>Methodology ${escapeHtml(cards[0]?.methodologyVersion ?? '')}; see docs/scorecard.md.</p>
</body></html>
`
}
