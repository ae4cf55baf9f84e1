import { fuzzShard } from './fuzz-test-support.ts';

fuzzShard(0);
