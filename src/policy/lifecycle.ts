import { POLICY_STATES } from '../store/schema.js';

/**
 * The policy lifecycle: draft → backtested → shadow → active → retired.
 * Which action may move a version from which state, and the error when it may not.
 */
export type PolicyState = (typeof POLICY_STATES)[number];
export { POLICY_STATES };

export type LifecycleAction = 'create' | 'backtest' | 'shadow' | 'approve' | 'promote' | 'rollback' | 'retire' | 'shadow-report';

export type PolicyLifecycleErrorCode = 'not_found' | 'duplicate' | 'invalid' | 'illegal_transition' | 'four_eyes' | 'conflict';

export class PolicyLifecycleError extends Error {
  readonly code: PolicyLifecycleErrorCode;
  constructor(code: PolicyLifecycleErrorCode, message: string) {
    super(message);
    this.name = 'PolicyLifecycleError';
    this.code = code;
  }
}

export const LIFECYCLE_PATH = 'draft → backtested → shadow → active → retired';

interface Rule {
  from: readonly PolicyState[];
  /** the state afterwards; undefined keeps the state */
  to?: Partial<Record<PolicyState, PolicyState>>;
  needs: string;
}

/** Legal moves per action. Anything not listed is refused. */
export const TRANSITIONS: Record<Exclude<LifecycleAction, 'create' | 'rollback'>, Rule> = {
  // A report can be attached at any point; only a draft changes state.
  backtest: { from: POLICY_STATES, to: { draft: 'backtested' }, needs: 'any version' },
  shadow: { from: ['backtested'], to: { backtested: 'shadow' }, needs: 'a backtested version' },
  approve: { from: ['backtested', 'shadow'], needs: 'a backtested or shadow version' },
  promote: { from: ['shadow'], to: { shadow: 'active' }, needs: 'a version in shadow' },
  retire: { from: ['draft', 'backtested', 'shadow', 'active'], to: { draft: 'retired', backtested: 'retired', shadow: 'retired', active: 'retired' }, needs: 'a version that is not retired' },
  'shadow-report': { from: ['shadow', 'active', 'retired'], needs: 'a version that has run in shadow' },
};

const VERB: Record<keyof typeof TRANSITIONS, string> = {
  backtest: 'attach a backtest to',
  shadow: 'start shadowing',
  approve: 'approve',
  promote: 'promote',
  retire: 'retire',
  'shadow-report': 'attach a shadow report to',
};

/** The state after `action`, or a PolicyLifecycleError saying why the move is illegal. */
export function nextState(action: keyof typeof TRANSITIONS, policy: string, version: number, state: PolicyState): PolicyState {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(state)) {
    throw new PolicyLifecycleError(
      'illegal_transition',
      `cannot ${VERB[action]} ${policy} v${version}: it is ${state}, and that needs ${rule.needs} (${LIFECYCLE_PATH})`,
    );
  }
  return rule.to?.[state] ?? state;
}

/** "someone other than alice" / "someone other than alice and bob" */
export function otherThan(names: string[]): string {
  const u = [...new Set(names)];
  return 'someone other than ' + (u.length > 1 ? `${u.slice(0, -1).join(', ')} and ${u[u.length - 1]}` : u[0]);
}
