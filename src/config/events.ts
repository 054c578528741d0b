import type { BusListener } from '../changes/bus.js';

export type { ConfigChange } from '../changes/bus.js';

/** A listener of configuration changes (see ConfigService.subscribe). */
export type ConfigListener = BusListener<'value'>;
