/**
 * The deployment recipes in deploy/, checked as far as this machine allows (no cluster, no
 * systemd as PID 1): the Kubernetes manifests against the Kubernetes OpenAPI schemas
 * (kubernetes-models), the systemd unit with `systemd-analyze verify` when it exists, and
 * cross-checks against the server that cannot drift: probe paths the app serves, environment
 * variable names config.ts reads, the container port, and stop timeouts above the server's own
 * shutdown bound.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../api/src/config';
import { controlPlaneRoutes } from '../../api/src/routes';

const root = path.join(__dirname, '..', '..');
const deploy = (...p: string[]) => path.join(root, 'deploy', ...p);
const read = (file: string) => fs.readFileSync(file, 'utf8');

/** A parsed manifest; its shape is checked by the schema test, the other tests read it through the models' types. */
type Manifest = { kind: string } & Record<string, unknown>;
const parseYamlDocs = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML error: ${d.errors[0]!.message}`);
      return d.toJS() as unknown;
    })
    .filter((d) => d != null) as Manifest[];

// kubernetes-models is ESM-only: a plain import() would be compiled to require() for jest.
type ModelClass = new (data: unknown) => { validate(): void };
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, ModelClass>>;

/** Every environment variable config.ts reads (the keys of its zod Env object). */
function configEnvNames(): Set<string> {
  const src = read(path.join(root, 'api', 'src', 'config.ts'));
  const start = src.indexOf('const Env = z.object({');
  const env = src.slice(start, src.indexOf('\n});', start));
  return new Set([...env.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));
}

/** The GET paths the control plane serves, from its route manifests (e.g. /healthz and /readyz). */
function appGetRoutes(): Set<string> {
  return new Set(controlPlaneRoutes.flatMap((m) => m.routes.filter((r) => r.method === 'get').map((r) => r.path)));
}

/** The server's worst-case stop time in seconds with the given environment: drain + in-flight bound. */
function shutdownBoundSeconds(env: Record<string, string>): number {
  const c = loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL ?? 'postgres://x@localhost/x' });
  return (c.shutdownDrainMs + c.shutdownTimeoutMs) / 1000;
}

describe('kubernetes manifests', () => {
  const docs = fs.readdirSync(deploy('kubernetes')).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseYamlDocs(read(deploy('kubernetes', f))).map((d) => ({ file: f, doc: d })));
  const byKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const deployment = () => byKind('Deployment')[0] as unknown as IDeployment & { spec: NonNullable<IDeployment['spec']> };
  const podSpec = () => deployment().spec.template.spec!;
  const service = () => byKind('Service')[0] as unknown as IService;
  const pdb = () => byKind('PodDisruptionBudget')[0] as unknown as IPodDisruptionBudget;
  const container = (): IContainer => podSpec().containers[0]!;
  const envOf = () => Object.fromEntries((container().env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

  test('every manifest validates against the Kubernetes schema of its kind', async () => {
    const models: Record<string, [string, string]> = {
      Deployment: ['kubernetes-models/apps/v1/Deployment', 'Deployment'],
      Service: ['kubernetes-models/v1/Service', 'Service'],
      PodDisruptionBudget: ['kubernetes-models/policy/v1/PodDisruptionBudget', 'PodDisruptionBudget'],
      Secret: ['kubernetes-models/v1/Secret', 'Secret'],
    };
    const kinds = docs.filter((d) => d.doc.kind !== 'Kustomization').map((d) => d.doc.kind as string);
    expect(kinds.sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
    for (const { file, doc } of docs) {
      if (doc.kind === 'Kustomization') continue;
      const [mod, name] = models[doc.kind]!;
      const Model = (await importEsm(mod))[name]!;
      expect(() => new Model(doc).validate()).not.toThrow();
      expect(file).toMatch(/\.yaml$/);
    }
    // The schema check is real: a wrong type is refused.
    const { Deployment } = await importEsm('kubernetes-models/apps/v1/Deployment');
    const broken = { ...deployment(), spec: { ...deployment().spec, replicas: 'three' } };
    expect(() => new Deployment!(broken).validate()).toThrow();
  });

  test('the kustomization lists every manifest but the example Secret', () => {
    const k = parseYamlDocs(read(deploy('kubernetes', 'kustomization.yaml')))[0] as unknown as { resources: string[] };
    expect([...k.resources].sort()).toEqual(['deployment.yaml', 'poddisruptionbudget.yaml', 'service.yaml']);
  });

  test('three replicas, rolled one at a time, kept at two through voluntary disruptions', () => {
    const d = deployment();
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(pdb().spec?.minAvailable).toBe(2);
    expect(pdb().spec?.selector?.matchLabels).toEqual(d.spec.selector.matchLabels);
    expect(service().spec?.selector).toEqual(d.spec.selector.matchLabels);
    expect(d.spec.template.metadata?.labels).toMatchObject(d.spec.selector.matchLabels!);
  });

  test('probes use paths the server serves, on the port it listens on', () => {
    const routes = appGetRoutes();
    const c = container();
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(routes.has(probe!.httpGet!.path!)).toBe(true);
      expect(probe!.httpGet!.port).toBe('http');
    }
    const http = c.ports!.find((p) => p.name === 'http')!;
    expect(String(http.containerPort)).toBe(envOf().PORT);
    expect(loadConfig({ PORT: envOf().PORT }).port).toBe(http.containerPort);
    const metricsPort = c.ports!.find((p) => p.name === 'metrics')!;
    expect(String(metricsPort.containerPort)).toBe(envOf().CERTUSORDO_METRICS_PORT);
    expect(service().spec!.ports![0]!.targetPort).toBe('http');
  });

  test('readiness notices the drain before the listener closes, and the grace period outlasts the shutdown bound', () => {
    const c = container();
    const env = envOf();
    const drainS = Number(env.CERTUSORDO_SHUTDOWN_DRAIN_MS) / 1000;
    // The kubelet sees /readyz fail within one period (failureThreshold 1), well inside the drain.
    expect(c.readinessProbe!.failureThreshold! * c.readinessProbe!.periodSeconds!).toBeLessThan(drainS);
    const bound = shutdownBoundSeconds({ ...env, DATABASE_URL: 'postgres://x@localhost/x' });
    expect(bound).toBe(15);
    expect(podSpec().terminationGracePeriodSeconds).toBeGreaterThan(bound + 5);
  });

  test('every environment variable is one the server reads; secrets come from the Secret', () => {
    const names = configEnvNames();
    expect(names.has('DATABASE_URL')).toBe(true);
    const env = container().env!;
    expect(env.map((e) => e.name).filter((n) => !names.has(n))).toEqual([]);
    const fromSecret = Object.fromEntries(env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom!.secretKeyRef]));
    expect(fromSecret).toEqual({ DATABASE_URL: { name: 'certusordo', key: 'database-url' }, CERTUSORDO_MASTER_KEY: { name: 'certusordo', key: 'master-key' } });
    const secret = byKind('Secret')[0] as unknown as ISecret;
    expect(Object.keys(secret.stringData!).sort()).toEqual(['database-url', 'master-key']);
    // The non-secret values parse as the server would parse them.
    expect(() => loadConfig(Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])))).not.toThrow();
  });

  test('non-root, read-only root filesystem, no privilege escalation, writable dirs on emptyDir', () => {
    const pod = podSpec();
    const c = container();
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const mounts = Object.fromEntries(c.volumeMounts!.map((m) => [m.mountPath, m.name]));
    expect(Object.keys(mounts).sort()).toEqual(['/tmp', envOf().CERTUSORDO_DATA_DIR!].sort());
    for (const v of pod.volumes!) expect(v.emptyDir).toBeDefined();
    expect(c.resources?.requests?.cpu).toBeDefined();
    expect(c.resources?.requests?.memory).toBeDefined();
    expect(c.resources?.limits?.memory).toBeDefined();
  });
});

describe('systemd unit', () => {
  const unitFile = deploy('systemd', 'certusordo.service');
  const unit = read(unitFile);
  const directives = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
  const envFile = (name: string) =>
    Object.fromEntries(read(deploy('systemd', name)).split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  test('systemd-analyze verify accepts it without a warning', () => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
    if (which.status !== 0) {
      if (process.env.CI) throw new Error('systemd-analyze is required under CI');
      console.warn('SKIPPED: systemd-analyze is not installed; only the structural checks ran');
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certusordo-unit-'));
    try {
      fs.copyFileSync(unitFile, path.join(dir, 'certusordo.service'));
      const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'certusordo.service')], { encoding: 'utf8' });
      expect(r.stderr.split('\n').filter((l) => l.includes('certusordo.service'))).toEqual([]);
      expect(r.status).toBe(0);
      // The check is real: an unknown directive is reported.
      fs.writeFileSync(path.join(dir, 'certusordo.service'), unit.replace('[Install]', 'NoSuchDirective=1\n[Install]'));
      const bad = spawnSync('systemd-analyze', ['verify', path.join(dir, 'certusordo.service')], { encoding: 'utf8' });
      expect(bad.stderr).toContain('NoSuchDirective');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('hardened: an unprivileged user, a read-only system, no new privileges', () => {
    expect(directives('DynamicUser')).toEqual(['yes']);
    expect(directives('ProtectSystem')).toEqual(['strict']);
    expect(directives('NoNewPrivileges')).toEqual(['yes']);
    expect(directives('CapabilityBoundingSet')).toEqual(['']);
    expect(directives('StateDirectory')).toEqual(['certusordo']);
    // V8 needs writable executable memory.
    expect(directives('MemoryDenyWriteExecute')).toEqual([]);
    expect(directives('ExecStart')[0]).toMatch(/dist\/cli\/main\.js serve$/);
  });

  test('secrets come from a root-only EnvironmentFile; every variable set is one the server reads', () => {
    expect(directives('EnvironmentFile')).toEqual(['/etc/certusordo/certusordo.env', '/etc/certusordo/secrets.env']);
    expect(unit).not.toMatch(/CERTUSORDO_MASTER_KEY=|DATABASE_URL=/);
    const names = configEnvNames();
    const settings = envFile('certusordo.env.example');
    const secrets = envFile('secrets.env.example');
    expect(Object.keys(secrets).sort()).toEqual(['CERTUSORDO_MASTER_KEY', 'DATABASE_URL']);
    const inline = directives('Environment').map((e) => e.slice(0, e.indexOf('=')));
    expect([...Object.keys(settings), ...Object.keys(secrets), ...inline.filter((n) => n !== 'NODE_ENV')].filter((n) => !names.has(n))).toEqual([]);
    expect(() => loadConfig(settings)).not.toThrow();
  });

  test('the stop timeout outlasts the server\'s drain and in-flight bound', () => {
    const stop = directives('TimeoutStopSec')[0]!;
    expect(stop).toMatch(/^\d+s$/);
    const bound = shutdownBoundSeconds(envFile('certusordo.env.example'));
    expect(parseInt(stop, 10)).toBeGreaterThan(bound + 5);
    expect(directives('KillSignal')).toEqual(['SIGTERM']);
  });
});

test('the container image runs the CLI as a non-root user', () => {
  const dockerfile = read(deploy('container', 'Dockerfile'));
  expect(dockerfile).toMatch(/^USER 10001:10001$/m);
  expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cli\/main\.js"\]$/m);
  const k8s = parseYamlDocs(read(deploy('kubernetes', 'deployment.yaml')))[0] as unknown as IDeployment;
  expect(k8s.spec!.template.spec!.securityContext!.runAsUser).toBe(10001);
  expect(k8s.spec!.template.spec!.containers[0]!.args).toEqual(['serve']);
  // The CLI the image runs has the `serve` command.
  expect(read(path.join(root, 'cli', 'commands', 'server', 'serve.ts'))).toMatch(/command\('serve'\)/);
});
