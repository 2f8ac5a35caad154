import type { Viewer } from '../auth/viewer.js';
import type { GraphQLContext } from '../context.js';
import { unauthenticatedError } from '../services/infra-errors.js';

/** The viewer of a field already guarded by authScopes (defence in depth if a guard is ever removed). */
export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw unauthenticatedError();
  return ctx.viewer;
}
