import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HubError, issueField, toHubError, validationError } from '../errors.js';
import type { Logger } from '../log.js';

/** Turns every failure into `{error: {code, message, field?}}` with the catalogue's HTTP status. */
export function installErrorHandler(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: HubError;
    if (hasZodFastifySchemaValidationErrors(err)) {
      // Fields are named as the client wrote them (`code`, `target`), the same as socket acks; a problem with
      // the payload as a whole names the payload (`body`, `querystring`, `params`).
      const where = err.validationContext ?? 'body';
      const issues = err.validation.map((v) => ({
        field: issueField(v.instancePath.split('/').filter(Boolean), v.params['keys'], where),
        problem: v.message ?? 'invalid',
      }));
      e = validationError(issues, where);
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      e = new HubError(
        'payload_too_large',
        `body: larger than the ${app.initialConfig.bodyLimit} byte limit`,
        {
          field: 'body',
        },
      );
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      e = new HubError('bad_request', 'body: send application/json', { field: 'body' });
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      e = new HubError('bad_request', 'body: empty JSON body', { field: 'body' });
    } else if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      e = new HubError('bad_request', `body: not valid JSON (${err.message})`, { field: 'body' });
    } else {
      e = toHubError(err);
      if (e.code === 'internal') logger.error({ err, url: req.url }, 'request failed');
    }
    if (e.code === 'rate_limited') reply.header('retry-after', '1');
    reply.code(e.status).send({ error: e.toBody() });
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new HubError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    reply.code(404).send({ error: e.toBody() });
  });
}
