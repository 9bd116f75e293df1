import { decodeJwt } from 'jose';

/**
 * The app runtime's one JWT decoder: the claims of a token, read without verifying (the platform verifies the
 * token on every call the app makes with it); empty when it is not a JWT.
 */
export function claimsOf(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token);
  } catch {
    return {};
  }
}
