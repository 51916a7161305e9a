/**
 * Moved to `src/util/bounded-map.ts`; this path stays for the importers not yet updated.
 * @deprecated import BoundedMap from `util/bounded-map.js`
 */
export { BoundedMap } from '../../util/bounded-map.js'
