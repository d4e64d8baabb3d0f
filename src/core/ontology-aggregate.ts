/** The ontology as an aggregate (`ontology/default`): every schema change is an event. */
import { StrataError } from './errors.js';
import type { EventData, EventEnvelope } from './event.js';
import { breakingChanges, EMPTY_ONTOLOGY, type Ontology, validateOntology } from './ontology.js';

export interface OntologyState {
  version: number;
  ontology: Ontology;
}

export const initialOntologyState: OntologyState = { version: 0, ontology: EMPTY_ONTOLOGY };

/** Decides an `OntologyChanged` event replacing the whole definition, or throws. */
export function decideOntology(state: OntologyState, next: Ontology): EventData['OntologyChanged'] {
  const invalid = validateOntology(next);
  if (invalid.length) {
    throw new StrataError('STRATA_ERR_ONTOLOGY_INVALID', 'the ontology definition is invalid', {
      violations: invalid,
    });
  }
  const breaking = breakingChanges(state.ontology, next);
  if (breaking.length) {
    throw new StrataError(
      'STRATA_ERR_ONTOLOGY_BREAKING_CHANGE',
      'the change would invalidate existing events; only additive changes are accepted',
      { violations: breaking },
    );
  }
  return { ontology: next };
}

export function evolveOntology(state: OntologyState, event: EventEnvelope): OntologyState {
  if (event.event_type === 'OntologyChanged') {
    return { version: event.version, ontology: (event.data as EventData['OntologyChanged']).ontology };
  }
  return { ...state, version: event.version };
}
