'use strict';
module.exports = require('./postgres-global').setup;
