// Validate an OpenAPI document file (argv[2]) against the OpenAPI 3.1 specification schema
// and resolve every $ref. Exit 1 with the validator's message when it is not valid.
const SwaggerParser = require("@apidevtools/swagger-parser");
SwaggerParser.validate(process.argv[2])
  .then((api) => console.log(`valid OpenAPI ${api.openapi}: ${Object.keys(api.paths).length} paths`))
  .catch((e) => { console.error("INVALID: " + e.message); process.exit(1); });
