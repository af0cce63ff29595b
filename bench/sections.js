// The benchmark sections, in order. Each returns markdown.
import { decodeSection } from './decode.js';

export const sections = [decodeSection];
