import { paymentProviderContract } from './provider-contract.ts';

// One contract, both providers: the deterministic one and Stripe (against the stand-in).
paymentProviderContract('test');
paymentProviderContract('stripe');
