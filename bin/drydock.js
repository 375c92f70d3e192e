#!/usr/bin/env node
// The bin holds no logic: everything lives in the built entry (npm run build).
import '../dist/main.js';
