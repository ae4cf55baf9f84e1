#!/usr/bin/env node
// The `aiops` command. Runs the TypeScript sources through tsx (see ARCHITECTURE.md: no build step to start).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
