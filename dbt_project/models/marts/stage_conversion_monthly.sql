-- Stage conversion by month cohorts, channels under the configured channel basis
-- (setting stage_conversion_channel_basis); empty unless month is in period_grains.

{{ stage_conversion_mart(grain='month') }}
