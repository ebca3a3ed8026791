import { plainDeleteCommand } from '../../cli/plain-delete.js';

export default plainDeleteCommand('gate', async () => (await import('../../core/primitives/gate.js')).gateKind, 'processing-gate');
