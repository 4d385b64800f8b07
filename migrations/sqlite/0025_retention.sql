-- Retention (issue 22): what the background job needs to find expired rows and the rows it
-- must keep without scanning whole tables. An applied migration is never edited: add a new
-- file instead.
--
-- A decision an order or a payment names is its risk record (labels addressed by order read
-- it): retention keeps it, and looks that up by these partial indexes.
CREATE INDEX orders_risk_decision ON orders (risk_decision_id) WHERE risk_decision_id IS NOT NULL;
CREATE INDEX payments_risk_decision ON payments (risk_decision_id) WHERE risk_decision_id IS NOT NULL;
-- Callbacks and audit entries expire by age.
CREATE INDEX channel_callbacks_received ON channel_callbacks (received_at);
CREATE INDEX audit_log_at ON audit_log (at);
