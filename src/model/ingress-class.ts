/**
 * Which Ingresses Switchyard serves: the one rule, used by the compiler (routes, TLS hosts) and by the kube
 * source's status write-back alike. It lives in model/ because both must call it and sources/ may not import
 * compile/ (ARCHITECTURE.md); it is a pure function of records and flags.
 *
 * networking.k8s.io/v1 semantics, as ingress-nginx applies them:
 * - `spec.ingressClassName` naming an IngressClass whose `spec.controller` is ours → served;
 * - the legacy `kubernetes.io/ingress.class` annotation equal to --ingress-class → served (either suffices);
 * - no class at all → served only when an IngressClass of ours carries
 *   `ingressclass.kubernetes.io/is-default-class: "true"`, or with --watch-ingress-without-class;
 * - no IngressClass object known at all (a folder of manifests without one) → as if one named
 *   --ingress-class, of our controller and the default, existed: that class and no class are served.
 */
import type { IngressClassRec, IngressRec } from './records.ts';

/** The `spec.controller` naming Switchyard unless --ingress-controller-name says otherwise. */
export const DEFAULT_INGRESS_CONTROLLER = 'switchyard.dev/ingress-controller';

export interface IngressClassOptions {
  /** --ingress-class: the legacy annotation value served, and the implied class when no IngressClass exists. */
  readonly ingressClass: string;
  /** --ingress-controller-name; default `switchyard.dev/ingress-controller`. */
  readonly ingressControllerName?: string;
  /** --watch-ingress-without-class: serve Ingresses without a class whatever the IngressClasses say; default false. */
  readonly watchIngressWithoutClass?: boolean;
}

/** The IngressClasses as the rule reads them, built once per compile (see ingressClassIndex). */
export interface IngressClassIndex {
  readonly ingressClass: string;
  readonly controller: string;
  readonly watchWithoutClass: boolean;
  /** Name → `spec.controller` of every known IngressClass, or of the implied one when none is known. */
  readonly controllers: ReadonlyMap<string, string | undefined>;
  /** Whether an IngressClass of ours is marked default (or the implied one stands in). */
  readonly oursIsDefault: boolean;
  /** True when no IngressClass object is known and the implied one stands in. */
  readonly implied: boolean;
}

export function ingressClassIndex(classes: Iterable<IngressClassRec>, options: IngressClassOptions): IngressClassIndex {
  const controller = options.ingressControllerName ?? DEFAULT_INGRESS_CONTROLLER;
  const controllers = new Map<string, string | undefined>();
  let oursIsDefault = false;
  for (const c of classes) {
    controllers.set(c.meta.name, c.controller);
    if (c.isDefault && c.controller === controller) oursIsDefault = true;
  }
  const implied = controllers.size === 0;
  if (implied) {
    controllers.set(options.ingressClass, controller);
    oursIsDefault = true;
  }
  return { ingressClass: options.ingressClass, controller, watchWithoutClass: options.watchIngressWithoutClass ?? false, controllers, oursIsDefault, implied };
}

/** Why `ing` is not served, for the INGRESS_CLASS_IGNORED diagnostic; undefined when it is served. */
export function ingressClassProblem(ing: IngressRec, index: IngressClassIndex): string | undefined {
  const name = ing.ingressClassName;
  const annotation = ing.classAnnotation;
  if (name === undefined && annotation === undefined) {
    if (index.oursIsDefault || index.watchWithoutClass) return undefined;
    return `no ingress class, and no IngressClass of controller ${JSON.stringify(index.controller)} is the default (ingressclass.kubernetes.io/is-default-class: "true") nor is --watch-ingress-without-class set`;
  }
  if (annotation !== undefined && annotation === index.ingressClass) return undefined;
  const problems: string[] = [];
  if (name !== undefined) {
    const controller = index.controllers.get(name);
    if (controller === index.controller) return undefined;
    if (index.implied) {
      problems.push(`spec.ingressClassName ${JSON.stringify(name)} is not ${JSON.stringify(index.ingressClass)} (no IngressClass object is known, so only --ingress-class is served)`);
    } else if (!index.controllers.has(name)) {
      problems.push(`spec.ingressClassName ${JSON.stringify(name)} names no existing IngressClass`);
    } else {
      const its = controller === undefined ? 'has no spec.controller' : `has controller ${JSON.stringify(controller)}`;
      problems.push(`IngressClass ${JSON.stringify(name)} ${its}, not ${JSON.stringify(index.controller)}`);
    }
  }
  if (annotation !== undefined) problems.push(`annotation kubernetes.io/ingress.class ${JSON.stringify(annotation)} is not ${JSON.stringify(index.ingressClass)}`);
  return problems.join('; ');
}

/** Whether Switchyard serves `ing` (ingressClassProblem finds nothing). */
export function isServedIngress(ing: IngressRec, index: IngressClassIndex): boolean {
  return ingressClassProblem(ing, index) === undefined;
}
