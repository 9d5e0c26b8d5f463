import { runWorkerProcess } from './worker-process.js';

void runWorkerProcess();
