// SQL fragments that read heartbeats the way liveness and heartbeat uptime count them. The gap, scorecard and
// evidence readers use them, and so does the processor when it adds a batch's heartbeat cover. The migration
// 1796437000000-HeartbeatCoverBySetting.js applies the same two rules in its triggers:
// - A heartbeat counts only when the operator was a member of the service at the heartbeat's block time: a membership
//   with joined_at <= t and no left_at or left_at > t. Anyone can send a heartbeat for any operator and service, so
//   the others stay stored as chain facts but count for nothing.
// - A heartbeat is judged with the interval and max missed in force at its position in the chain: the service's
//   latest HeartbeatConfigUpdated before it in (timestamp, log id) order, or 300 s and 3 when there is none.

/** Interval in seconds of a service that no HeartbeatConfigUpdated has configured yet. */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 300n

/** Max missed heartbeats of a service that no HeartbeatConfigUpdated has configured yet. */
export const DEFAULT_HEARTBEAT_MAX_MISSED = 3

/**
 * Returns a LEFT JOIN LATERAL that names `alias` the latest heartbeat_config_change of `service` before a chain
 * position: before (timestamp, id) when `id` is given, else at or before `timestamp`. Select its values through
 * `settingColumns(alias)`, which fills in the default when the service had no change yet.
 */
export function settingJoin(alias: string, service: string, timestamp: string, id?: string): string {
    const before = id === undefined ? `c.timestamp <= ${timestamp}` : `(c.timestamp, c.id) < (${timestamp}, ${id})`
    return `LEFT JOIN LATERAL (
  SELECT c.interval, c.max_missed FROM heartbeat_config_change c
  WHERE c.service_id = ${service} AND ${before}
  ORDER BY c.timestamp DESC, c.id DESC
  LIMIT 1
) ${alias} ON true`
}

/** Returns the select list of the setting that `settingJoin` found: heartbeat_interval (decimal text) and heartbeat_max_missed. */
export function settingColumns(alias: string): string {
    return `coalesce(${alias}.interval, ${DEFAULT_HEARTBEAT_INTERVAL_SECONDS})::text AS heartbeat_interval,
       coalesce(${alias}.max_missed, ${DEFAULT_HEARTBEAT_MAX_MISSED}) AS heartbeat_max_missed`
}

/**
 * Returns a subquery of the latest counted heartbeat of one (operator, service) pair whose timestamp passes
 * `bound` (such as `<= $3`), with the columns id, timestamp, status_code and block_number. It probes the heartbeat
 * index (operator_id, service_id, timestamp) once per membership of the pair, inside the membership, so heartbeats
 * sent outside every membership are never scanned.
 */
export function latestCountedHeartbeat(operator: string, service: string, bound: string): string {
    return `(
  SELECT beat.id, beat.timestamp, beat.status_code, beat.block_number
  FROM service_membership m
  CROSS JOIN LATERAL (
    SELECT h.id, h.timestamp, h.status_code, h.block_number FROM heartbeat h
    WHERE h.operator_id = m.operator_id AND h.service_id = m.service_id AND h.timestamp >= m.joined_at
      AND (m.left_at IS NULL OR h.timestamp < m.left_at) AND h.timestamp ${bound}
    ORDER BY h.timestamp DESC, h.id DESC
    LIMIT 1
  ) beat
  WHERE m.operator_id = ${operator} AND m.service_id = ${service}
  ORDER BY beat.timestamp DESC, beat.id DESC
  LIMIT 1
)`
}

/** Returns the condition that heartbeat row `h` was sent while its operator was a member of its service. */
export function countedCondition(h: string): string {
    return `EXISTS (SELECT 1 FROM service_membership m
   WHERE m.service_id = ${h}.service_id AND m.operator_id = ${h}.operator_id AND m.joined_at <= ${h}.timestamp
     AND (m.left_at IS NULL OR m.left_at > ${h}.timestamp))`
}
