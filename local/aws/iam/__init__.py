"""IAM of the embedded AWS beyond moto: AWS managed policies present in every account, as on AWS."""
