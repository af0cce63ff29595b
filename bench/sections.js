// The benchmark sections, in order. Each returns markdown.
import { decodeSection } from './decode.js';
import { scoringSection } from './scoring.js';

export const sections = [decodeSection, scoringSection];
