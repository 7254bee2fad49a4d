import type { ModuleNames } from './names.ts';

/** One edit of a file that lists the modules: it fails loudly when the place it edits has moved. */
export interface Registration {
  readonly file: string;
  readonly change: (text: string) => string;
}

function insertAfterLast(text: string, pattern: RegExp, insertion: string, file: string): string {
  const matches = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))];
  const last = matches.at(-1);
  if (!last) throw new Error(`${file}: found no ${pattern} to register the module after`);
  const end = last.index + last[0].length;
  return text.slice(0, end) + insertion + text.slice(end);
}

/** Dependencies by name, as npm writes them. */
const sorted = (dependencies: Record<string, string>) => Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b, 'en')));

function json(text: string, edit: (value: any) => void): string {
  const value = JSON.parse(text);
  edit(value);
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Object keys in npm's order (the root first, then by name), so the lock file stays as npm writes it. */
function sortedPackages(packages: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'))));
}

/** `splitProcesses`: the modules with a process of their own in the split overlay (deploy/overlays/split/<module>). */
export function registrations(n: ModuleNames, splitProcesses: readonly string[]): Registration[] {
  const { module, MODULE } = n;
  const contractPackage = `@shop/${module}-contract`;
  return [
    {
      file: 'package.json',
      change: (text) =>
        json(text, (root) => {
          const workspaces: string[] = root.workspaces;
          workspaces.splice(workspaces.findLastIndex((w) => w.endsWith('/contract')) + 1, 0, `packages/${module}/contract`);
          workspaces.splice(workspaces.indexOf('packages/app'), 0, `packages/${module}`);
        }),
    },
    {
      // What npm install would write for the two new workspaces, so `npm ci` agrees with package.json.
      file: 'package-lock.json',
      change: (text) =>
        json(text, (lock) => {
          const packages = lock.packages as Record<string, any>;
          packages['']!.workspaces = JSON.parse(text).packages[''].workspaces;
          const rootWorkspaces: string[] = packages['']!.workspaces;
          rootWorkspaces.splice(rootWorkspaces.findLastIndex((w) => w.endsWith('/contract')) + 1, 0, `packages/${module}/contract`);
          rootWorkspaces.splice(rootWorkspaces.indexOf('packages/app'), 0, `packages/${module}`);
          packages[`node_modules/@shop/${module}`] = { resolved: `packages/${module}`, link: true };
          packages[`node_modules/${contractPackage}`] = { resolved: `packages/${module}/contract`, link: true };
          packages[`packages/${module}`] = {
            name: `@shop/${module}`,
            version: '0.1.0',
            dependencies: sorted({ [contractPackage]: '0.1.0', '@shop/platform': '0.1.0', fastify: '5.12.8', kysely: '0.28.18', typebox: '1.4.3' }),
          };
          packages[`packages/${module}/contract`] = { name: contractPackage, version: '0.1.0', dependencies: { '@shop/contract-kit': '0.1.0', typebox: '1.4.3' } };
          const app = packages['packages/app'];
          app.dependencies = sorted({ ...app.dependencies, [`@shop/${module}`]: '0.1.0', [contractPackage]: '0.1.0' });
          lock.packages = sortedPackages(packages);
        }),
    },
    {
      file: 'packages/app/package.json',
      change: (text) =>
        json(text, (app) => {
          app.dependencies = sorted({ ...app.dependencies, [`@shop/${module}`]: '0.1.0', [contractPackage]: '0.1.0' });
        }),
    },
    {
      file: 'packages/app/src/modules.ts',
      change: (text) => {
        const imported = insertAfterLast(text, /^import \{ \w+Module \} from '@shop\/[a-z0-9]+';\n/m, `import { ${module}Module } from '@shop/${module}';\n`, 'modules.ts');
        return insertAfterLast(imported, /^ {2}[a-z0-9]+: [a-z0-9]+Module,\n/m, `  ${module}: ${module}Module,\n`, 'modules.ts');
      },
    },
    {
      file: 'packages/app/src/topology-config.ts',
      change: (text) => insertAfterLast(text, /^export const MODULE_NAMES = \[[^\]]*'/m, `, '${module}'`, 'topology-config.ts'),
    },
    {
      file: 'packages/app/test/contracts.test.ts',
      change: (text) => {
        const imported = insertAfterLast(text, /^import \{[^}]*ContractSuite[^}]*\} from '@shop\/[a-z0-9]+\/contract-suite';\n/m, `import { ${module}ContractSuite } from '@shop/${module}/contract-suite';\n`, 'contracts.test.ts');
        return insertAfterLast(imported, /^ {2}\w+ContractSuite\(name, target\);\n/m, `  ${module}ContractSuite(name, target);\n`, 'contracts.test.ts');
      },
    },
    // Kubernetes: every process that lists MODULES learns where the new one runs; main hosts it.
    {
      file: 'deploy/base/process/kustomization.yaml',
      change: (text) => insertAfterLast(text, /- MODULES=[a-z0-9,]+/, `,${module}`, 'deploy/base/process/kustomization.yaml'),
    },
    ...splitProcesses.map((other) => ({
      file: `deploy/overlays/split/${other}/kustomization.yaml`,
      change: (text: string) => insertAfterLast(text, /- [A-Z0-9]+_URL=http:\/\/shop-[a-z0-9]+:8080\n/, `      - ${MODULE}_URL=http://shop-${module}:8080\n`, `split/${other}`),
    })),
    {
      file: 'deploy/overlays/payments-out/payments/kustomization.yaml',
      change: (text) => insertAfterLast(text, /- [A-Z0-9]+_URL=http:\/\/shop-main:8080\n/, `      - ${MODULE}_URL=http://shop-main:8080\n`, 'payments-out/payments'),
    },
    {
      file: 'deploy/overlays/split/kustomization.yaml',
      change: (text) => insertAfterLast(text, /^ {2}- [a-z0-9]+\n(?=images:)/m, `  - ${module}\n`, 'split/kustomization.yaml'),
    },
  ];
}

/** The new module's own process in the split overlay, reaching the others through their Services. */
export function splitOverlay({ module }: ModuleNames, others: readonly string[]): string {
  return `# The ${module} module in a process of its own: base/process named shop-${module}, hosting ${module} only, and
# reaching the other modules through their Services.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
nameSuffix: -${module}
labels:
  - pairs:
      app.kubernetes.io/component: ${module}
    includeSelectors: true
resources:
  - ../../../base/process
configMapGenerator:
  - name: shop-topology
    behavior: replace
    literals:
      - MODULES=${module}
${others.map((other) => `      - ${other.toUpperCase()}_URL=http://shop-${other}:8080`).join('\n')}
`;
}
