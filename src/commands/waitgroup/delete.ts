import { plainDeleteCommand } from '../../cli/plain-delete.js';

export default plainDeleteCommand('waitgroup', async () => (await import('../../core/primitives/waitgroup.js')).waitGroupKind, 'workers');
