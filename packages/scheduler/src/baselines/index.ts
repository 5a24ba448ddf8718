/** Faithful re-creations of published placement algorithms, for side-by-side comparison (see each module's header). */
export { divideByWeight, runBaseline, type BaselineOptions, type BaselineResult, type Part } from './common.ts';
export { karmadaStaticWeight, karmadaDynamicWeight, type KarmadaOptions, type KarmadaSpread } from './karmada.ts';
export { kubeDefault, kubeDefaultScore } from './kube.ts';
export { multiKueue, type MultiKueueOptions } from './multikueue.ts';
export { cheapestFeasible, randomFeasible } from './simple.ts';
