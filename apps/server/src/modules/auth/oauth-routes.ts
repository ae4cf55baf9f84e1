import type { AppModule } from '../../module.ts';

/** Sign-in with Google, Microsoft and GitHub. */
export const oauthRoutes: AppModule = (_deps) => async (_app) => {};
