/** The current ontology, folded from the `ontology/default` stream and cached for a short while. */
import { ONTOLOGY_AGGREGATE } from '../core/event.js';
import { findObjectType } from '../core/ontology.js';
import { evolveOntology, initialOntologyState, type OntologyState } from '../core/ontology-aggregate.js';
import type { EventStore } from '../ports/event-store.js';

export class OntologyCache {
  private cached: { state: OntologyState; at: number } | undefined;
  private loading: Promise<OntologyState> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly ttlMs = 2000,
  ) {}

  /** The ontology as of now (at most `ttlMs` old). */
  async current(): Promise<OntologyState> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.state;
    return this.reload();
  }

  /** The ontology, reloaded first if `type` is not in the cached one (another instance may have added it). */
  async withType(type: string): Promise<OntologyState> {
    const state = await this.current();
    return findObjectType(state.ontology, type) ? state : this.reload();
  }

  /** The ontology as it was at `asOf` (folded from the stream, uncached). */
  async asOf(asOf: number): Promise<OntologyState> {
    let state = initialOntologyState;
    for await (const e of this.store.readStream(ONTOLOGY_AGGREGATE)) {
      if (Date.parse(e.occurred_at) > asOf) break;
      state = evolveOntology(state, e);
    }
    return state;
  }

  reload(): Promise<OntologyState> {
    this.loading ??= (async () => {
      try {
        let state = initialOntologyState;
        for await (const e of this.store.readStream(ONTOLOGY_AGGREGATE)) state = evolveOntology(state, e);
        this.cached = { state, at: Date.now() };
        return state;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Records a state this process just committed. */
  set(state: OntologyState): void {
    this.cached = { state, at: Date.now() };
  }
}
