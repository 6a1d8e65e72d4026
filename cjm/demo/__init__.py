"""The bundled demo data: a fictional brand ("Finly") with mentions and CRM journeys.

The data is generated, not recorded, so it can be shipped with the repository,
contains no real people, and has known answers (the planted incident, the
designed conversion rates, the broken rows) that tests can check the marts against.
"""
