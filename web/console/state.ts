// What the whole console shares: the signed-in user.

import type { Me } from "./api.js";

/** current holds the signed-in user, once known. */
export const current: { me: Me | null } = { me: null };
