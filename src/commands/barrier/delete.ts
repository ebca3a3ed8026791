import { plainDeleteCommand } from '../../cli/plain-delete.js';

export default plainDeleteCommand('barrier', async () => (await import('../../core/primitives/barrier.js')).barrierKind, 'extract-complete');
