import {
  mfaActivateResponseSchema,
  mfaCodeBodySchema,
  mfaDisableBodySchema,
  mfaEnrolResponseSchema,
  okSchema,
} from '@aiops/contracts';
import type { AppModule } from '../../module.ts';
import * as mfa from './mfa-service.ts';

const tags = ['auth'];

/** TOTP two-factor authentication: enrol (URI + QR), activate with a code (recovery codes), disable. */
export const mfaRoutes: AppModule = (deps) => async (app) => {
  app.post(
    '/auth/mfa/enrol',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Start TOTP enrolment: an otpauth URI and its QR code',
        response: { 200: mfaEnrolResponseSchema },
      },
    },
    async (request) => mfa.enrol(deps, request),
  );
  app.post(
    '/auth/mfa/activate',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Turn MFA on with a code from the app; returns recovery codes once',
        body: mfaCodeBodySchema,
        response: { 200: mfaActivateResponseSchema },
      },
    },
    async (request) => mfa.activate(deps, request, request.body.code),
  );
  app.post(
    '/auth/mfa/disable',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags,
        summary: 'Turn MFA off (password and a code)',
        body: mfaDisableBodySchema,
        response: { 200: okSchema },
      },
    },
    async (request) => mfa.disable(deps, request, request.body),
  );
};
