import { Command } from 'commander';
import { formatHistory, policyText, PolicyRegistry, type PolicyVersion } from '../../policy/index.js';
import { loadPolicyFile, RuleCompileError, type RuleDiagnostic } from '../../rules/index.js';
import { rulesPositionMapper } from '../../rules/locate.js';
import { DEFAULT_STORE_DIR, openStore } from '../../store/index.js';
import { addPolicyAnalysisCommands } from './policy-analysis.js';

interface StoreFlags {
  store: string;
  db?: string;
}

/** Opens the store named by the global flags, runs `fn` on its registry, always closes. */
async function withRegistry<T>(cmd: Command, fn: (reg: PolicyRegistry) => Promise<T>): Promise<T> {
  const o = cmd.optsWithGlobals() as StoreFlags;
  const store = await openStore({ url: o.db, dataDir: o.store });
  try {
    return await fn(new PolicyRegistry(store));
  } finally {
    await store.close();
  }
}

/** "3" or "v3" → 3 */
function versionArg(text: string, what = 'VERSION'): number {
  const m = /^v?(\d+)$/i.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a version number such as 3 or v3, got "${text}"`);
  return n;
}

const print = (text: string) => process.stdout.write(text.replace(/\n?$/, '\n'));
const json = (value: unknown) => print(JSON.stringify(value, null, 2));
const when = (d: Date | null) => (d ? d.toISOString() : '-');

/** Loads a policy file; compile errors point into the file (line and column). */
function loadForCreate(file: string) {
  const doc = loadPolicyFile(file);
  return {
    doc,
    fileErrors(err: RuleCompileError): Error {
      const map = rulesPositionMapper(file) ?? ((d: RuleDiagnostic) => d);
      const lines = err.diagnostics.map(map).map((d) => `  ${file}:${d.line}:${d.column}: ${d.message}${d.rule ? ` [rule ${d.rule}]` : ''}`);
      return new Error(`${doc.name}: the rules do not compile, nothing was stored\n${lines.join('\n')}`);
    },
  };
}

function formatVersion(v: PolicyVersion, latest: number, backtests: { actor: string; at: Date }[]): string {
  const out = [
    `${v.policy} v${v.version}  ${v.state}${latest !== v.version ? `  (latest v${latest})` : ''}`,
    `  author     ${v.author}, ${when(v.createdAt)}${v.reason ? `, "${v.reason}"` : ''}`,
    `  sha256     ${v.contentHash}`,
    `  lifecycle  backtested ${when(v.backtestedAt)}, shadow ${when(v.shadowAt)}, active ${when(v.activatedAt)}, retired ${when(v.retiredAt)}`,
    `  approvals  ${v.approvals.length ? v.approvals.map((a) => `${a.approver} ${when(a.at)}${a.reason ? ` "${a.reason}"` : ''}`).join('; ') : 'none'}`,
    `  backtests  ${backtests.length ? `${backtests.length}, latest by ${backtests[backtests.length - 1].actor} ${when(backtests[backtests.length - 1].at)}` : 'none'}`,
  ];
  if (v.doc.description) out.push(`  about      ${v.doc.description}`);
  out.push('', ...policyText({ ...v.doc, description: undefined }).replace(/\n$/, '').split('\n').map((l) => '  ' + l));
  return out.join('\n');
}

export function policyCommand(): Command {
  const cmd = new Command('policy')
    .description('Policies and their versions: draft → backtested → shadow → active → retired, four-eyes promotion, rollback, audit trail')
    .option('--store <dir>', 'embedded store (PGlite) data directory', DEFAULT_STORE_DIR)
    .option('--db <url>', 'PostgreSQL URL (postgres://…) instead of the embedded store; default env RISKLOOP_DATABASE_URL');

  cmd
    .command('create')
    .description('Store a policy file (.rules, .yaml, .json) as a new draft version; its rules must compile')
    .argument('<file>', 'policy file')
    .requiredOption('--author <name>', 'who wrote this version')
    .option('--reason <text>', 'why this version exists')
    .option('--json', 'print the stored version as JSON')
    .action(async (file: string, o: { author: string; reason?: string; json?: boolean }, self: Command) => {
      const { doc, fileErrors } = loadForCreate(file);
      const v = await withRegistry(self, async (reg) => {
        try {
          return await reg.createVersion({ doc, author: o.author, reason: o.reason });
        } catch (err) {
          throw err instanceof RuleCompileError ? fileErrors(err) : err;
        }
      });
      if (o.json) json(v);
      else print(`created ${v.policy} v${v.version} (${v.state}) by ${v.author}, sha256 ${v.contentHash.slice(0, 12)}`);
    });

  cmd
    .command('list')
    .description('Every policy: its versions, the active one and those in shadow')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }, self: Command) => {
      const list = await withRegistry(self, (reg) => reg.list());
      if (o.json) {
        json(list);
        return;
      }
      if (!list.length) {
        print('no policies yet (riskloop policy create FILE --author NAME)');
        return;
      }
      const w = Math.max(6, ...list.map((p) => p.policy.length));
      const rows = [`${'policy'.padEnd(w)}  versions  active  shadow`];
      for (const p of list) rows.push(`${p.policy.padEnd(w)}  ${String(p.versions).padStart(8)}  ${(p.active ? `v${p.active}` : '-').padStart(6)}  ${p.shadows.map((s) => `v${s}`).join(',') || '-'}`);
      print(rows.join('\n'));
    });

  cmd
    .command('show')
    .description('One version: state, author, approvals, backtests, rules and thresholds (default: the active version, else the latest)')
    .argument('<name>', 'policy name')
    .option('--version <n>', 'version number')
    .option('--json', 'print as JSON')
    .action(async (name: string, o: { version?: string; json?: boolean }, self: Command) => {
      const shown = await withRegistry(self, async (reg) => {
        const all = await reg.versions(name);
        if (!all.length) throw new Error(`no policy named ${name}`);
        const latest = all[all.length - 1].version;
        const want = o.version !== undefined ? versionArg(o.version, '--version') : undefined;
        const v = want !== undefined ? all.find((x) => x.version === want) : (all.find((x) => x.state === 'active') ?? all[all.length - 1]);
        if (!v) throw new Error(`${name} has no v${want} (latest is v${latest})`);
        const backtests = (await reg.backtests(name, v.version)).map(({ id, actor, at }) => ({ id, actor, at }));
        return { v, latest, backtests };
      });
      if (o.json) json({ ...shown.v, latest: shown.latest, backtests: shown.backtests });
      else print(formatVersion(shown.v, shown.latest, shown.backtests));
    });

  cmd
    .command('approve')
    .description('Approve a backtested or shadow version for promotion (four eyes: not by its author)')
    .argument('<name>', 'policy name')
    .argument('<version>', 'version number')
    .requiredOption('--by <name>', 'the approver')
    .option('--reason <text>', 'why it is approved')
    .action(async (name: string, version: string, o: { by: string; reason?: string }, self: Command) => {
      const v = await withRegistry(self, (reg) => reg.approve(name, versionArg(version), o.by, o.reason));
      print(`${o.by} approved ${v.policy} v${v.version} (${v.state}); approvals: ${v.approvals.map((a) => a.approver).join(', ')}`);
    });

  cmd
    .command('promote')
    .description('Make a shadow version active; needs an approval by someone other than its author and you. The active one retires.')
    .argument('<name>', 'policy name')
    .argument('<version>', 'version number')
    .requiredOption('--by <name>', 'who promotes')
    .option('--reason <text>', 'why')
    .action(async (name: string, version: string, o: { by: string; reason?: string }, self: Command) => {
      const { v, before } = await withRegistry(self, async (reg) => {
        const before = await reg.active(name);
        return { v: await reg.promote(name, versionArg(version), o.by, o.reason), before };
      });
      print(`${v.policy} v${v.version} is active${before ? ` (v${before.version} retired)` : ''}; approved by ${v.approvals.map((a) => a.approver).join(', ')}`);
    });

  cmd
    .command('rollback')
    .description('Make an earlier, previously active version active again in one step; the current one retires')
    .argument('<name>', 'policy name')
    .requiredOption('--to <version>', 'the version to restore')
    .requiredOption('--by <name>', 'who rolls back')
    .option('--reason <text>', 'why')
    .action(async (name: string, o: { to: string; by: string; reason?: string }, self: Command) => {
      const { v, before } = await withRegistry(self, async (reg) => {
        const before = await reg.active(name);
        return { v: await reg.rollback(name, versionArg(o.to, '--to'), o.by, o.reason), before };
      });
      print(`${v.policy} rolled back to v${v.version}${before ? ` (v${before.version} retired)` : ''}`);
    });

  cmd
    .command('retire')
    .description('Retire a version (retiring the active one leaves the policy without an active version)')
    .argument('<name>', 'policy name')
    .argument('<version>', 'version number')
    .requiredOption('--by <name>', 'who retires it')
    .option('--reason <text>', 'why')
    .action(async (name: string, version: string, o: { by: string; reason?: string }, self: Command) => {
      const v = await withRegistry(self, (reg) => reg.retire(name, versionArg(version), o.by, o.reason));
      print(`${v.policy} v${v.version} is retired`);
    });

  cmd
    .command('history')
    .description('The audit trail of a policy: who did what, when, why, and the diff')
    .argument('<name>', 'policy name')
    .option('--json', 'print as JSON')
    .action(async (name: string, o: { json?: boolean }, self: Command) => {
      const h = await withRegistry(self, (reg) => reg.history(name));
      if (!h.length) throw new Error(`no policy named ${name}`);
      if (o.json) json(h);
      else print(formatHistory(h));
    });

  addPolicyAnalysisCommands(cmd);
  return cmd;
}
