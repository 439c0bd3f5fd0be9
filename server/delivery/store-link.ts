// What the delivery side needs of the store, as one flat interface of async methods, so that it can be called
// directly (in-process delivery) or through a typed proxy across the thread boundary (see thread.ts). Adding a
// method: declare it in `DeliveryStore` and map it in `deliveryStoreOf`; the compiler then requires it in
// `DELIVERY_STORE_METHODS`, and both sides of the thread boundary pick it up from there.
import type { Store } from '../store/store.port.js';

export interface DeliveryStore {
  claimJobs: Store['claimJobs'];
  heartbeat: Store['heartbeat'];
  cancelRequests: Store['cancelRequests'];
  releaseJobs: Store['releaseJobs'];
  completeJob: Store['completeJob'];
  failJob: Store['failJob'];
  enqueueJobs: Store['enqueueJobs'];
  getEffect: Store['effects']['get'];
  putEffect: Store['effects']['put'];
  putEffectGroup: Store['putEffectGroup'];
}

/** Every method name, once: the proxy is built from this list and the main thread only answers names in it. */
const METHOD_SET: Record<keyof DeliveryStore, true> = {
  claimJobs: true,
  heartbeat: true,
  cancelRequests: true,
  releaseJobs: true,
  completeJob: true,
  failJob: true,
  enqueueJobs: true,
  getEffect: true,
  putEffect: true,
  putEffectGroup: true,
};
export const DELIVERY_STORE_METHODS = Object.keys(METHOD_SET) as Array<keyof DeliveryStore>;

export function isDeliveryStoreMethod(name: string): name is keyof DeliveryStore {
  return Object.hasOwn(METHOD_SET, name);
}

/** The delivery view of a store (the main thread, or in-process delivery). */
export function deliveryStoreOf(store: Store): DeliveryStore {
  return {
    claimJobs: (...a) => store.claimJobs(...a),
    heartbeat: (...a) => store.heartbeat(...a),
    cancelRequests: (...a) => store.cancelRequests(...a),
    releaseJobs: (...a) => store.releaseJobs(...a),
    completeJob: (...a) => store.completeJob(...a),
    failJob: (...a) => store.failJob(...a),
    enqueueJobs: (...a) => store.enqueueJobs(...a),
    getEffect: (...a) => store.effects.get(...a),
    putEffect: (...a) => store.effects.put(...a),
    putEffectGroup: (...a) => store.putEffectGroup(...a),
  };
}

/** A call of method `K` with its arguments, as it crosses the thread boundary. */
export type DeliveryCall = { [K in keyof DeliveryStore]: { method: K; args: Parameters<DeliveryStore[K]> } }[keyof DeliveryStore];

/** Runs a call that arrived from the other thread on the real store. */
export function dispatchCall(store: DeliveryStore, call: DeliveryCall): Promise<unknown> {
  if (!isDeliveryStoreMethod(call.method)) return Promise.reject(new Error(`unknown delivery store method ${String(call.method)}`));
  return (store[call.method] as (...a: unknown[]) => Promise<unknown>)(...call.args);
}

/** A `DeliveryStore` whose every method sends its call with `send` and resolves with the answer. */
export function deliveryStoreProxy(send: (call: DeliveryCall) => Promise<unknown>): DeliveryStore {
  const proxy = {} as Record<keyof DeliveryStore, (...args: unknown[]) => Promise<unknown>>;
  for (const method of DELIVERY_STORE_METHODS) proxy[method] = (...args) => send({ method, args } as DeliveryCall);
  return proxy as unknown as DeliveryStore;
}
