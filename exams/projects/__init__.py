"""Projects: the practical half of a certification.

Briefs with rubrics, learners' submissions (checked, privately stored files
and repository links), the review queue and grading with second and third
graders. The modules follow the app's names: `models` (in exams.models, so no
table moved), `rules` and `agreement` (pure: the grading rules; Cohen's kappa
and exact agreement between graders), `uploads` (file checks), `selectors`,
`services`, `api` and `views`. Nothing here uses the exam code.
"""
