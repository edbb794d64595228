import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { listAudit, type OperatorIdentity } from '@app/operators';
import { ApiError } from '../http/api-error';
import { AdminGuard, CurrentOperator } from './admin.guard';

export class AuditListQuery {
  @IsOptional() @Matches(/^\d{1,4}$/, { message: 'limit must be a number from 1 to 500' }) limit?: string;
  /** The previous page's next_before_id. */
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'before_id must be an audit record id' })
  before_id?: string;
  @IsOptional() @IsString() @Length(1, 64) operator?: string;
  @IsOptional() @IsString() @Length(1, 64) action?: string;
  @IsOptional() @IsString() @Length(1, 300) subject?: string;
}

/** The audit log of admin changes, and who the caller is. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin')
export class AuditAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({
    status: 200,
    description: '{"items": [...], "next_before_id"}: audit rows, newest first; secrets redacted',
  })
  @Get('audit')
  @ApiOperation({
    summary:
      'Admin changes, newest first: who (operator, role), when, action, subject, request (secrets redacted), before, after. Page with before_id',
  })
  async list(@Query() q: AuditListQuery) {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 500) throw ApiError.badField('limit', 'limit must be a number from 1 to 500');
    return listAudit(this.ds.manager, {
      limit,
      beforeId: q.before_id,
      operator: q.operator,
      action: q.action,
      subject: q.subject,
    });
  }

  @ApiResponse({ status: 200, description: '{"name", "role"}: the operator the token belongs to' })
  @Get('whoami')
  @ApiOperation({ summary: "The caller's operator name and role (viewer, reviewer or admin)" })
  whoami(@CurrentOperator() op: OperatorIdentity) {
    return { name: op.name, role: op.role };
  }
}
