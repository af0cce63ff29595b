// The benchmark sections, in order. Each returns markdown.
import { decodeSection } from './decode.js';
import { simSection } from './sim.js';
import { surveillanceSection } from './surveillance.js';
import { scoringSection } from './scoring.js';
import { graphSection } from './graph.js';
import { rulesSection } from './rules.js';

export const sections = [decodeSection, simSection, surveillanceSection, scoringSection, graphSection, rulesSection];
