export type { EffectiveSettings, FaultRule, ResultShape, SimOptions } from './config.js';
export { SimConfigError } from './config.js';
export { parseSimEnv, unknownSimVariables, SimEnvError, type SimEnv } from './env.js';
export { createFoxapiSimulator, type FoxapiSimulator } from './simulator.js';
export type { SimStats, SimTaskStats } from './stats.js';
export { transcriptionFor, type TranscriptionJson } from './transcripts.js';
