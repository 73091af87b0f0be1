export { accountEnrollmentRoutes, enrollmentRoutes } from "./enrollments.js";
export { sequenceRoutes } from "./sequences/index.js";
