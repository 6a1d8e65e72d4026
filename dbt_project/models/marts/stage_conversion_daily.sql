-- Stage conversion by day cohorts, channels under the configured channel basis
-- (setting stage_conversion_channel_basis); empty unless day is in period_grains.

{{ stage_conversion_mart(grain='day') }}
