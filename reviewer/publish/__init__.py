"""What a code host gets from a review, independent of the host: the plan, the budget, the
summary and the hidden markers that make reruns idempotent. GitHub and GitLab both use it."""
