import { createHash } from 'node:crypto';

/** A request to collect money from an organization (a marketplace purchase, an invoice). */
export interface ChargeRequest {
  organizationId: string;
  /** A decimal string in the currency's major unit, e.g. "9.99". */
  amount: string;
  /** ISO 4217, e.g. "USD". */
  currency: string;
  description: string;
  /** Idempotency key: charging the same reference twice returns the first result. */
  reference: string;
}

export interface PaymentResult {
  status: 'pending' | 'completed' | 'failed';
  transactionId: string;
}

/**
 * How the platform collects payments. The built-in provider is manual (bank transfer against an
 * invoice: pending until someone marks it paid); an operator replaces it with a card network's adapter.
 */
export interface PaymentPort {
  readonly name: string;
  charge(request: ChargeRequest): Promise<PaymentResult>;
  refund(transactionId: string, amount: string): Promise<PaymentResult>;
}

/**
 * Manual payments: nothing is collected automatically. A charge is `pending` with a transaction id
 * derived from its reference (so a repeated charge gets the same id); the caller records it, and an
 * owner or operator marks it paid; a zero amount completes at once. A refund is likewise recorded as completed by hand.
 */
export class ManualPayments implements PaymentPort {
  readonly name = 'manual';

  async charge(request: ChargeRequest): Promise<PaymentResult> {
    return {
      // Nothing to collect for a free item: it completes at once.
      status: /^0+(\.0+)?$/.test(request.amount) ? 'completed' : 'pending',
      transactionId: `manual_${digest(`${request.organizationId}:${request.reference}`)}`,
    };
  }

  async refund(transactionId: string, amount: string): Promise<PaymentResult> {
    return { status: 'completed', transactionId: `manual_refund_${digest(`${transactionId}:${amount}`)}` };
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);
