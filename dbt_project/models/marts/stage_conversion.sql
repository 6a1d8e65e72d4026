-- Stage conversion at the configured cohort grain and channel basis (settings
-- stage_conversion_grain, stage_conversion_channel_basis): the funnel BI reads.

{{ stage_conversion_mart() }}
