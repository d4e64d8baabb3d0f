/**
 * The write path of DESIGN §1, top-down:
 *   1 validate against the ontology; load the aggregate from the event store
 *   2 outbox: record the intent (pending)
 *   3 event store: create streams/…/{version} exclusively   ← commit point
 *   4 event store: write the dated copy events/yyyy/mm/dd/…
 *   5 outbox: mark ready → the relay delivers (ready always implies the dated copy exists)
 * A crash after 2 or 3 leaves a pending intent that the relay resolves (see relay.ts).
 */
import {
  ConcurrencyConflict,
  EngineUnavailable,
  isStrataError,
  StrataError,
  ValidationFailed,
} from '../core/errors.js';
import { type EventEnvelope, isVoidMarkerOf, ONTOLOGY_AGGREGATE, SCHEMA_VERSION } from '../core/event.js';
import { type AggregateRef, aggregateKey, assertValidId, streamKey } from '../core/keys.js';
import {
  type Decision,
  decideObject,
  evolveObject,
  initialObjectState,
  type ObjectCommand,
  patchChangesNothing,
} from '../core/object-aggregate.js';
import {
  type Ontology,
  type Properties,
  primaryKeyOf,
  requireLinkType,
  requireObjectType,
} from '../core/ontology.js';
import { decideOntology, evolveOntology, initialOntologyState } from '../core/ontology-aggregate.js';
import { canonicalJson, unstorableJson } from '../core/storable.js';
import type { Clock, Ids } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { GraphStore } from '../ports/graph-store.js';
import type { Outbox } from '../ports/outbox.js';
import type { OntologyCache } from './ontology-cache.js';
import { StreamCache } from './stream-cache.js';

export interface CommandContext {
  actor: string;
  /** Idempotency-Key: the same key on one aggregate never yields two events. */
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  /** If-Match: the version the client last saw; a mismatch is a 409. */
  expectedVersion?: number;
}

export interface CommandResult {
  event_id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  version: number;
  /** True when an earlier command with the same Idempotency-Key produced this event. */
  deduplicated: boolean;
}

/** Test hooks: a fault point fires after the named step (DESIGN §3 crash table). */
export type FaultPoint = 'after-intent' | 'after-commit' | 'after-copy';

export interface CommandHandlerDeps {
  store: EventStore;
  outbox: Outbox;
  graph: GraphStore;
  ontology: OntologyCache;
  clock: Clock;
  ids: Ids;
  fault?: (point: FaultPoint) => void;
  log?: (message: string, error?: unknown) => void;
}

/** Retries of a command without If-Match when another writer took the version first. */
const CONFLICT_RETRIES = 5;

function result(e: EventEnvelope, deduplicated: boolean): CommandResult {
  return {
    event_id: e.event_id,
    event_type: e.event_type,
    aggregate_type: e.aggregate_type,
    aggregate_id: e.aggregate_id,
    version: e.version,
    deduplicated,
  };
}

function asUnavailable(engine: string, e: unknown): StrataError {
  return isStrataError(e) ? e : new EngineUnavailable(engine, (e as Error).message ?? String(e), e);
}

export class CommandHandler {
  private readonly streams: StreamCache;

  constructor(private readonly deps: CommandHandlerDeps) {
    this.streams = new StreamCache(deps.store);
  }

  putOntology(next: Ontology, ctx: CommandContext): Promise<CommandResult> {
    return this.execute(ONTOLOGY_AGGREGATE, ctx, (events) => {
      const state = events.reduce(evolveOntology, initialOntologyState);
      const data = decideOntology(state, next);
      // The current definition again changes nothing, unless an Idempotency-Key must be bound to
      // an event (its retries answer with that event, and another request under it is refused).
      const unchanged = state.version > 0 && canonicalJson(state.ontology) === canonicalJson(next);
      return unchanged && !ctx.commandId ? undefined : { event_type: 'OntologyChanged', data };
    }).then(async (r) => {
      // A deduplicated retry committed nothing new: the cache must hold what the store holds.
      if (r.deduplicated) await this.deps.ontology.reload();
      else this.deps.ontology.set({ version: r.version, ontology: next });
      return r;
    });
  }

  async createObject(type: string, properties: Properties, ctx: CommandContext): Promise<CommandResult> {
    const { ontology } = await this.deps.ontology.withType(type);
    const def = requireObjectType(ontology, type);
    const id = primaryKeyOf(def, properties);
    if (id === undefined) {
      throw new StrataError('STRATA_ERR_VALIDATION_FAILED', `invalid ${type}`, {
        violations: [
          {
            path: `/properties/${def.primaryKey}`,
            message: 'the primary key is required (string or integer)',
          },
        ],
      });
    }
    return this.objectCommand(
      { type, id },
      { kind: 'create', properties },
      ctx,
      `/properties/${def.primaryKey}`,
    );
  }

  updateObject(
    type: string,
    id: string,
    properties: Properties,
    ctx: CommandContext,
  ): Promise<CommandResult> {
    return this.objectCommand({ type, id }, { kind: 'update', properties }, ctx);
  }

  deleteObject(type: string, id: string, ctx: CommandContext): Promise<CommandResult> {
    return this.objectCommand({ type, id }, { kind: 'delete' }, ctx);
  }

  addLink(
    type: string,
    id: string,
    linkType: string,
    targetId: string,
    ctx: CommandContext,
  ): Promise<CommandResult> {
    return this.objectCommand({ type, id }, { kind: 'addLink', linkType, targetId }, ctx);
  }

  removeLink(
    type: string,
    id: string,
    linkType: string,
    targetId: string,
    ctx: CommandContext,
  ): Promise<CommandResult> {
    return this.objectCommand({ type, id }, { kind: 'removeLink', linkType, targetId }, ctx);
  }

  private async objectCommand(
    ref: AggregateRef,
    command: ObjectCommand,
    ctx: CommandContext,
    /** Where the ID is in the request body (a create); undefined when it is in the path. */
    idPointer?: string,
  ): Promise<CommandResult> {
    assertValidId(ref.id, 'object ID', idPointer);
    const { ontology } = await this.deps.ontology.withType(ref.type);
    requireObjectType(ontology, ref.type);
    if (command.kind === 'addLink' || command.kind === 'removeLink')
      assertValidId(command.targetId, 'link target ID', command.kind === 'addLink' ? '/targetId' : undefined);
    return this.execute(
      ref,
      ctx,
      (events) => {
        const state = events.reduce(evolveObject, initialObjectState(ref.type, ref.id));
        const decision = decideObject(state, command, ontology);
        // Like an unchanged ontology PUT: a patch that changes nothing writes nothing, unless an
        // Idempotency-Key must be bound to an event.
        const unchanged =
          decision.event_type === 'ObjectUpdated' &&
          patchChangesNothing(state.properties, decision.data.properties);
        return unchanged && !ctx.commandId ? undefined : decision;
      },
      async (decision) => {
        if (decision.event_type === 'LinkAdded') await this.checkLinkTarget(ontology, ref, decision);
      },
    );
  }

  /** The link target must exist in the store (the truth); inverse cardinality is checked on the graph. */
  private async checkLinkTarget(
    ontology: Ontology,
    source: AggregateRef,
    decision: Extract<Decision, { event_type: 'LinkAdded' }>,
  ): Promise<void> {
    const { linkType, to } = decision.data;
    const target = (await this.load(to)).reduce(evolveObject, initialObjectState(to.type, to.id));
    if (!target.exists) {
      throw new StrataError(
        'STRATA_ERR_LINK_TARGET_MISSING',
        `${linkType} from ${source.type} '${source.id}' needs an existing ${to.type} '${to.id}'`,
      );
    }
    const link = requireLinkType(ontology, source.type, linkType);
    if (link.inverseCardinality === 'one' && (await this.deps.graph.countIncoming(to, linkType)) > 0) {
      throw new StrataError(
        'STRATA_ERR_LINK_CARDINALITY',
        `${to.type} '${to.id}' already has a ${linkType} link and the link type allows one per target`,
      );
    }
  }

  /**
   * Load, dedupe by Idempotency-Key, check If-Match, decide, check against other aggregates,
   * commit; retry lost races without If-Match. `decide` is pure: the same command on the same
   * events gives the same event (the Idempotency-Key check relies on it).
   */
  private async execute<D extends { event_type: string; data: unknown }>(
    ref: AggregateRef,
    ctx: CommandContext,
    decide: (events: EventEnvelope[]) => D | undefined,
    checkOthers: (decision: D) => Promise<void> = async () => undefined,
  ): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      const events = await this.load(ref);
      const replay = this.replayed(events, ctx, decide);
      if (replay) return replay;
      const last = events.at(-1);
      const version = last?.version ?? 0;
      if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== version) {
        throw new ConcurrencyConflict(aggregateKey(ref), ctx.expectedVersion, version);
      }
      const decision = decide(events);
      if (decision === undefined) {
        // Nothing changes (decide says so only of an existing aggregate): its current version.
        if (last) return result(last, true);
        throw new Error(`${aggregateKey(ref)}: decide returned no event for an empty stream`);
      }
      await checkOthers(decision);
      const unstorable = unstorableJson(decision.data, '/data');
      if (unstorable) throw new ValidationFailed('the event cannot be stored', [unstorable]);
      const event = this.envelope(ref, version + 1, decision, ctx, last);
      try {
        await this.commit(event);
        return result(event, false);
      } catch (e) {
        if (!(e instanceof ConcurrencyConflict)) throw e;
        if (ctx.expectedVersion !== undefined || attempt >= CONFLICT_RETRIES) {
          const winner = ctx.commandId ? this.replayed(await this.load(ref), ctx, decide) : undefined;
          if (winner) return winner;
          throw e;
        }
      }
    }
  }

  /**
   * The result of the event this command's Idempotency-Key already produced, if any. The request
   * must be the same one: decided again against the state before that event it gives the same
   * event (the ontology only grows, so a genuine retry decides as it did), or it is refused with
   * 422 rather than answered with another request's result.
   */
  private replayed(
    events: EventEnvelope[],
    ctx: CommandContext,
    decide: (events: EventEnvelope[]) => { event_type: string; data: unknown } | undefined,
  ): CommandResult | undefined {
    const at = ctx.commandId ? events.findIndex((e) => e.command_id === ctx.commandId) : -1;
    const previous = events[at];
    if (!previous) return undefined;
    let again: { event_type: string; data: unknown } | undefined;
    try {
      again = decide(events.slice(0, at));
    } catch {
      // This request could not have produced that event: it is another one.
    }
    if (
      !again ||
      again.event_type !== previous.event_type ||
      canonicalJson(again.data) !== canonicalJson(previous.data)
    ) {
      throw new StrataError(
        'STRATA_ERR_IDEMPOTENCY_KEY_REUSED',
        `the Idempotency-Key '${ctx.commandId}' already produced version ${previous.version} of ` +
          `${aggregateKey({ type: previous.aggregate_type, id: previous.aggregate_id })} (${previous.event_type}) ` +
          'from another request; send a new key with a new request',
      );
    }
    return result(previous, true);
  }

  private async load(ref: AggregateRef): Promise<EventEnvelope[]> {
    try {
      return await this.streams.load(ref);
    } catch (e) {
      throw asUnavailable('event store', e);
    }
  }

  private envelope(
    ref: AggregateRef,
    version: number,
    decision: { event_type: string; data: unknown },
    ctx: CommandContext,
    last: EventEnvelope | undefined,
  ): EventEnvelope {
    // Event time strictly increases per aggregate, so time order (and event ID order) is version order.
    const at = Math.max(this.deps.clock.now(), last ? Date.parse(last.occurred_at) + 1 : 0);
    const eventId = this.deps.ids.eventId(at);
    return {
      event_id: eventId,
      event_type: decision.event_type,
      aggregate_type: ref.type,
      aggregate_id: ref.id,
      version,
      occurred_at: new Date(at).toISOString(),
      actor: ctx.actor,
      command_id: ctx.commandId ?? eventId,
      correlation_id: ctx.correlationId ?? ctx.commandId ?? eventId,
      causation_id: ctx.causationId ?? ctx.commandId ?? eventId,
      schema_version: SCHEMA_VERSION,
      data: decision.data,
    };
  }

  private async commit(event: EventEnvelope): Promise<void> {
    const { store, outbox, fault, log } = this.deps;
    const ref = { type: event.aggregate_type, id: event.aggregate_id };
    try {
      await outbox.recordIntent({
        eventId: event.event_id,
        aggregateType: ref.type,
        aggregateId: ref.id,
        version: event.version,
        streamKey: streamKey(ref, event.version),
      });
    } catch (e) {
      throw asUnavailable('outbox', e);
    }
    fault?.('after-intent');
    try {
      await store.append(event);
    } catch (e) {
      if (e instanceof ConcurrencyConflict) {
        // A retried PUT may find our own object: then we did commit. If we cannot tell, the
        // intent stays pending and the relay's sweep settles it (never drop a maybe-committed event).
        let there: EventEnvelope | undefined;
        try {
          there = await store.readVersion(ref, event.version);
        } catch (readError) {
          throw asUnavailable('event store', readError);
        }
        if (there?.event_id !== event.event_id) {
          // A marker that fenced our intent takes over its row (the relay repoints it), so the
          // marker reaches the bus before any later version of this aggregate; any other winner
          // leaves our intent with nothing to deliver.
          if (!isVoidMarkerOf(there, event.event_id)) {
            await outbox
              .removeIntent(event.event_id)
              .catch((err) => log?.('could not remove a lost intent', err));
          }
          if (there?.event_type === 'VersionVoided') {
            throw new EngineUnavailable(
              'event store',
              'the commit took too long and was fenced by the relay; retry',
            );
          }
          throw e;
        }
      } else {
        // The outcome is unknown: the intent stays pending and the relay settles it either way.
        throw asUnavailable('event store', e);
      }
    }
    fault?.('after-commit');
    // Ready implies the dated copy exists; if either step fails the intent stays pending and the
    // relay's sweep writes the copy and delivers (the event is committed: the client gets its 202).
    try {
      await store.writeDatedCopy(event);
      fault?.('after-copy');
      await outbox.markReady(event.event_id);
    } catch (e) {
      log?.(`delivery of ${event.event_id} deferred to the relay's sweep`, e);
    }
  }
}
