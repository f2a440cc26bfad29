import {Field, Int, ObjectType} from 'type-graphql'

// Chain ids and amounts are decimal strings: GraphQL Int is 32-bit and would overflow on uint64 ids.

@ObjectType({description: 'Gap of one operator, service or blueprint, and proof kind at the query instant.'})
export class GapRowObject {
    @Field(() => String) operator!: string
    @Field(() => String, {description: 'Blueprint id, decimal.'}) blueprintId!: string
    @Field(() => String, {nullable: true, description: 'Service id, decimal; null for a blueprint registration.'})
    serviceId!: string | null
    @Field(() => String, {nullable: true}) product!: string | null
    @Field(() => String) kind!: string
    @Field(() => String, {description: 'PROVEN, STALE, FAILING, CONTRADICTED, UNPROVEN or NOT_APPLICABLE.'}) status!: string
    @Field(() => String) reason!: string
    @Field(() => [String], {description: 'Claims that require this kind.'}) claims!: string[]
    @Field(() => String, {nullable: true}) lastProofId!: string | null
    @Field(() => Date, {nullable: true}) lastProofAt!: Date | null
    @Field(() => String, {nullable: true}) lastOutcome!: string | null
    @Field(() => Date, {nullable: true}) lastPassAt!: Date | null
}

@ObjectType()
export class GapPageObject {
    @Field(() => Date) at!: Date
    @Field(() => Int) totalCount!: number
    @Field(() => [GapRowObject]) gaps!: GapRowObject[]
}

@ObjectType()
export class ClaimObject {
    @Field(() => String) operator!: string
    @Field(() => String) blueprintId!: string
    @Field(() => String, {nullable: true}) serviceId!: string | null
    @Field(() => String, {nullable: true}) product!: string | null
    @Field(() => String) kind!: string
    @Field(() => String) detail!: string
    @Field(() => [String]) requiredKinds!: string[]
}

@ObjectType()
export class LivenessObject {
    @Field(() => String) serviceId!: string
    @Field(() => Date, {
        nullable: true,
        description: 'Latest heartbeat at or before `at` sent while the operator was a member of the service. Other heartbeats do not count.',
    })
    lastHeartbeatAt!: Date | null
    @Field(() => Int, {nullable: true}) lastStatusCode!: number | null
    @Field(() => String, {
        description: 'Heartbeat interval in seconds, decimal, in force when lastHeartbeatAt was sent (at `at` when there is none).',
    })
    heartbeatIntervalSeconds!: string
    @Field(() => Int, {description: 'Max missed heartbeats in force when lastHeartbeatAt was sent (at `at` when there is none).'})
    heartbeatMaxMissed!: number
    @Field(() => Date, {nullable: true, description: 'lastHeartbeatAt + heartbeatIntervalSeconds × heartbeatMaxMissed.'})
    deadline!: Date | null
    @Field(() => Boolean) live!: boolean
    @Field(() => Boolean) healthy!: boolean
}

@ObjectType()
export class StatusCountObject {
    @Field(() => String) status!: string
    @Field(() => Int) count!: number
}

@ObjectType()
export class OperatorSummaryObject {
    @Field(() => String) operator!: string
    @Field(() => Date) at!: Date
    @Field(() => [ClaimObject]) claims!: ClaimObject[]
    @Field(() => Int) claimsProven!: number
    @Field(() => [StatusCountObject]) gapCounts!: StatusCountObject[]
    @Field(() => [StatusCountObject], {description: 'Proof records observed at or before the instant, by outcome.'})
    proofCounts!: StatusCountObject[]
    @Field(() => [LivenessObject]) liveness!: LivenessObject[]
    @Field(() => [GapRowObject]) gaps!: GapRowObject[]
}

@ObjectType()
export class ScorecardObject {
    @Field(() => String) operator!: string
    @Field(() => String, {nullable: true}) blueprintId!: string | null
    @Field(() => String) methodologyVersion!: string
    @Field(() => String) periodFrom!: string
    @Field(() => String) periodTo!: string
    @Field(() => String) periodLabel!: string
    @Field(() => String, {nullable: true}) heartbeatUptime!: string | null
    @Field(() => String, {nullable: true}) probeUptime!: string | null
    @Field(() => Int, {nullable: true}) probeLatencyP50Ms!: number | null
    @Field(() => Int, {nullable: true}) probeLatencyP95Ms!: number | null
    @Field(() => Int, {nullable: true}) probeLatencyP99Ms!: number | null
    @Field(() => Int) jobsSubmitted!: number
    @Field(() => Int) jobsCompleted!: number
    @Field(() => String, {nullable: true}) completionRate!: string | null
    @Field(() => Int, {nullable: true}) medianResultLatencySeconds!: number | null
    @Field(() => Int) claims!: number
    @Field(() => Int) claimsProven!: number
    @Field(() => String, {nullable: true}) proofCoverage!: string | null
    @Field(() => Int) contradictions!: number
    @Field(() => [String]) failingKinds!: string[]
    @Field(() => Int) slashesProposed!: number
    @Field(() => Int) slashesExecuted!: number
    @Field(() => String, {description: 'The whole scorecard, with the previous period and the change, as canonical JSON.'})
    json!: string
}

@ObjectType()
export class LinkedSlashObject {
    @Field(() => String) slashId!: string
    @Field(() => String) serviceId!: string
    @Field(() => String) operator!: string
    @Field(() => String) status!: string
    @Field(() => String) proposedTx!: string
}

@ObjectType()
export class EvidenceBundleObject {
    @Field(() => String, {description: 'Merkle root of the records; the bundle id.'}) root!: string
    @Field(() => Int) recordCount!: number
    @Field(() => String, {description: 'The bundle file: canonical JSON.'}) bundle!: string
    @Field(() => [LinkedSlashObject], {description: 'Slashes proposed with this root as evidence.'})
    linkedSlashes!: LinkedSlashObject[]
}
