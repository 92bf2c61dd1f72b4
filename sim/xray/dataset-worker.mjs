// Worker-thread entry for data set generation: registers the TypeScript loader in this thread
// (workers do not inherit it), then runs the worker written in TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./dataset-worker.ts');
