import { releaseCommand } from './install.js';

export default releaseCommand('upgrade');
