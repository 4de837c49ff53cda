#!/usr/bin/env node
'use strict';
process.exitCode = require('../dist/src/install.js').main(process.argv.slice(2));
