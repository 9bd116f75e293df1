import { z } from '@hono/zod-openapi';

const zonedDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' });
const nin = z.string().regex(/^\d{11}$/, 'National identity number must be 11 digits long.');
const orgNo = z.string().regex(/^\d{9}$/, 'Organization number must be 9 digits long.');
const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'Invalid email address format.');
const mobile = z
  .string()
  .regex(/^(\+|00)?\d{8,15}$/, "Mobile number can contain only '+' and numeric characters (E.164).");

/** A .NET enum read by JsonStringEnumConverter: its name in any casing, or its number. */
function dotnetEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.union([z.string(), z.number().int()]).transform((value, ctx): T[number] => {
    const found =
      typeof value === 'number' ? values[value] : values.find((name) => name.toLowerCase() === value.toLowerCase());
    if (found === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}` });
      return z.NEVER;
    }
    return found;
  });
}

/** A recipient of a legacy order, as Altinn Notifications' `RecipientExt` (app-lib adds `organisationNumber`). */
export const OrderRecipient = z
  .object({
    emailAddress: email.nullish(),
    mobileNumber: mobile.nullish(),
    organizationNumber: orgNo.nullish(),
    nationalIdentityNumber: nin.nullish(),
    isReserved: z.boolean().nullish(),
  })
  .refine((r) => !r.nationalIdentityNumber || (!r.emailAddress && !r.mobileNumber && !r.organizationNumber), {
    message: 'National identity number cannot be combined with email address, mobile number, or organization number.',
  })
  .refine((r) => !r.organizationNumber || (!r.emailAddress && !r.mobileNumber), {
    message: 'Organization number cannot be combined with email address or mobile number.',
  })
  .openapi('OrderRecipient');
export type OrderRecipient = z.infer<typeof OrderRecipient>;

const orderBase = {
  sendersReference: z.string().max(100).nullish(),
  requestedSendTime: zonedDateTime.nullish(),
  conditionEndpoint: z.url().nullish(),
  ignoreReservation: z.boolean().nullish(),
  resourceId: z.string().nullish(),
  resourceAction: z.string().nullish(),
  recipients: z.array(OrderRecipient).min(1, 'One or more recipient is required.').max(1000),
};

/** `POST orders/email` as app-lib's `EmailNotificationClient` sends `EmailNotification`. */
export const EmailOrderRequest = z
  .object({
    ...orderBase,
    subject: z.string().min(1, 'must not be empty').max(500),
    body: z.string().min(1, 'must not be empty').max(100_000),
    contentType: dotnetEnum(['Plain', 'Html']).nullish(),
    recipients: orderBase.recipients.refine(
      (all) => all.every((r) => r.emailAddress || r.organizationNumber || r.nationalIdentityNumber),
      'Either a valid email address, organization number, or national identity number must be provided for each recipient.',
    ),
  })
  .openapi('EmailNotificationOrderRequest');
export type EmailOrderRequest = z.infer<typeof EmailOrderRequest>;

/** `POST orders/sms` as app-lib's `SmsNotificationClient` sends `SmsNotification`. */
export const SmsOrderRequest = z
  .object({
    ...orderBase,
    senderNumber: z.string().max(100).nullish(),
    body: z.string().min(1, 'must not be empty').max(10_000),
    recipients: orderBase.recipients.refine(
      (all) => all.every((r) => r.mobileNumber || r.organizationNumber || r.nationalIdentityNumber),
      'Either a valid mobile number starting with country code, organization number, or national identity number must be provided for each recipient.',
    ),
  })
  .openapi('SmsNotificationOrderRequest');
export type SmsOrderRequest = z.infer<typeof SmsOrderRequest>;

const CHANNELS = ['Email', 'Sms', 'EmailPreferred', 'SmsPreferred', 'EmailAndSms'] as const;
const emailSettings = z.object({
  senderEmailAddress: z.string().nullish(),
  subject: z.string().min(1).max(500),
  body: z.string().min(1).max(100_000),
  contentType: dotnetEnum(['Plain', 'Html']).nullish(),
});
const smsSettings = z.object({
  sender: z.string().nullish(),
  body: z.string().min(1).max(10_000),
  sendingTimePolicy: dotnetEnum(['Anytime', 'Daytime']).nullish(),
});

/** A recipient of a `future/orders` request: exactly one of the kinds app-lib's `NotificationRecipient` has. */
export const FutureRecipient = z
  .object({
    recipientEmail: z.object({ emailAddress: email, emailSettings }).nullish(),
    recipientSms: z.object({ phoneNumber: mobile, smsSettings }).nullish(),
    recipientPerson: z
      .object({
        nationalIdentityNumber: nin,
        resourceId: z.string().nullish(),
        channelSchema: dotnetEnum(CHANNELS).nullish(),
        ignoreReservation: z.boolean().nullish(),
        emailSettings: emailSettings.nullish(),
        smsSettings: smsSettings.nullish(),
      })
      .nullish(),
    recipientOrganization: z
      .object({
        orgNumber: orgNo,
        resourceId: z.string().nullish(),
        channelSchema: dotnetEnum(CHANNELS),
        emailSettings: emailSettings.nullish(),
        smsSettings: smsSettings.nullish(),
      })
      .nullish(),
    recipientExternalIdentity: z
      .object({
        externalIdentity: z.string().min(1),
        resourceId: z.string().nullish(),
        channelSchema: dotnetEnum(CHANNELS).nullish(),
        emailSettings: emailSettings.nullish(),
        smsSettings: smsSettings.nullish(),
      })
      .nullish(),
  })
  .refine((r) => Object.values(r).filter((kind) => kind !== null && kind !== undefined).length === 1, {
    message: 'Exactly one recipient kind must be given.',
  });
export type FutureRecipient = z.infer<typeof FutureRecipient>;

/** `POST future/orders` as app-lib's `NotificationOrderClient` sends `NotificationOrderRequest`. */
export const FutureOrderRequest = z
  .object({
    dialogportenAssociation: z
      .object({ dialogId: z.string().nullish(), transmissionId: z.string().nullish() })
      .nullish(),
    idempotencyId: z.string().min(1, 'must not be empty').max(200),
    sendersReference: z.string().max(100).nullish(),
    requestedSendTime: zonedDateTime.nullish(),
    conditionEndpoint: z.url().nullish(),
    recipient: FutureRecipient,
    reminders: z
      .array(
        z.object({
          sendersReference: z.string().max(100).nullish(),
          conditionEndpoint: z.url().nullish(),
          delayDays: z.number().int().min(0).nullish(),
          requestedSendTime: zonedDateTime.nullish(),
          recipient: FutureRecipient,
        }),
      )
      .max(50)
      .nullish(),
  })
  .openapi('NotificationOrderChainRequest');
export type FutureOrderRequest = z.infer<typeof FutureOrderRequest>;

/** Answer to a legacy order, as Altinn's `NotificationOrderRequestResponseExt`; app-lib reads `orderId`. */
export const OrderResponse = z
  .object({ orderId: z.uuid(), recipientLookup: z.unknown().optional() })
  .openapi('NotificationOrderRequestResponse');

const Shipment = z.object({ shipmentId: z.uuid(), sendersReference: z.string().nullable() });

/** Answer to `future/orders`, as Altinn's `NotificationOrderChainResponseExt`. */
export const FutureOrderResponse = z
  .object({
    notificationOrderId: z.uuid(),
    notification: Shipment.extend({ reminders: z.array(Shipment) }),
  })
  .openapi('NotificationOrderChainResponse');
export type FutureOrderResponse = z.infer<typeof FutureOrderResponse>;

/** One notification of an order with its (recorded, never advancing) send status. */
export const NotificationWithResult = z.object({
  id: z.uuid(),
  succeeded: z.boolean(),
  recipient: z.object({
    emailAddress: z.string().nullable().optional(),
    mobileNumber: z.string().nullable().optional(),
    organizationNumber: z.string().nullable(),
    nationalIdentityNumber: z.string().nullable(),
  }),
  sendStatus: z.object({ status: z.string(), description: z.string(), lastUpdate: z.string() }),
});

/** `GET orders/{id}/notifications/email|sms`, as Altinn's `EmailNotificationSummaryExt` / `SmsNotificationSummaryExt`. */
export const NotificationSummary = z
  .object({
    orderId: z.uuid(),
    sendersReference: z.string().nullable(),
    generated: z.number().int(),
    succeeded: z.number().int(),
    notifications: z.array(NotificationWithResult),
  })
  .openapi('NotificationSummary');
export type NotificationSummary = z.infer<typeof NotificationSummary>;

/** `GET orders/{id}` and `PUT orders/{id}/cancel`: the order with its processing status. */
export const OrderWithStatus = z
  .object({
    id: z.uuid(),
    creator: z.string(),
    sendersReference: z.string().nullable(),
    requestedSendTime: z.string(),
    created: z.string(),
    notificationChannel: z.string(),
    processingStatus: z.object({ status: z.string(), description: z.string(), lastUpdate: z.string() }),
    notificationsStatusSummary: z.object({
      email: z
        .object({ links: z.object({ self: z.string() }), generated: z.number().int(), succeeded: z.number().int() })
        .optional(),
      sms: z
        .object({ links: z.object({ self: z.string() }), generated: z.number().int(), succeeded: z.number().int() })
        .optional(),
    }),
  })
  .openapi('NotificationOrderWithStatus');
export type OrderWithStatus = z.infer<typeof OrderWithStatus>;
