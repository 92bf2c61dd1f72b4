// Worker-thread entry of the ListKeeper: registers the TypeScript loader in this thread (workers
// do not inherit it), then runs the worker written in TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./list-worker.ts');
