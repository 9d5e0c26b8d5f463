export * from './address-policy.js';
export * from './outbound-agent.js';
export * from './outbound-failure.js';
export * from './follow-redirects.js';
