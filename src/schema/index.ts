import { builder } from './builder.js';
import './scalars.js';
import './enums.js';
import './errors.js';
import './payout.js';
import './quote.js';
import '../resolvers/mutation.create-quote.js';
import '../resolvers/mutation.execute-disbursement.js';
import '../resolvers/query.payout.js';
import '../resolvers/query.payouts.js';
import '../resolvers/subscription.payout-status.js';

export const schema = builder.toSchema({ sortSchema: true });
