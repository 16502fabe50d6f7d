// ip-cidr (ESM) does `import ipAddress from 'ip-address'`, and Node gives it ip-address's whole
// module.exports. Jest runs ip-cidr transformed to CommonJS, where the default import honours
// ip-address's __esModule flag and would be undefined; this shim gives it what Node gives.
const ipAddress = require('../../node_modules/ip-address/dist/ip-address.js');
module.exports = { __esModule: true, default: ipAddress, ...ipAddress };
